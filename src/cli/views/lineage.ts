// `asgard lineage`: one column's lineage trees, upstream and downstream.

import { renderLineageText, type ColumnLineage, type LineageTree } from '../../engine/lineage.js';
import type { View } from '../view.js';

const plain = (t: LineageTree): unknown => ({
  table: t.table,
  column: t.column,
  kind: t.kind,
  ...(t.note ? { note: t.note } : {}),
  children: t.children.map(plain),
});

export const lineageView: View<ColumnLineage> = {
  text: (l) => renderLineageText(l),
  json: (l) => ({ column: l.column, upstream: l.upstream.map(plain), downstream: l.downstream.map(plain) }),
};
