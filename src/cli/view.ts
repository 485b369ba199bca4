// CLI views: how one command result is printed in each `--format` (Terraform's `views` package is
// the model). A command computes its result and hands it to `show(ctx, view, result)`; it never
// branches on `ctx.format` itself. A view is a record of renderers, one per format, the default
// first: `json` returns the document (printed once, by ctx.json), every other format returns text.
// The command's `formats` are the view's (`formatsOf`), so a format cannot be declared without a
// renderer, nor rendered without being declared.
//
// To add a format to a command: add its renderer to the command's view (src/cli/views/).

import type { CommandContext } from './command.js';

/** One renderer per format: `json` gives the document, the others text. */
export type View<R, F extends string = 'text' | 'json'> = { readonly [K in F]: K extends 'json' ? (result: R) => unknown : (result: R) => string };

/** The formats a view renders, its default first (a command's `formats`). */
export function formatsOf<R, F extends string>(view: View<R, F>): readonly F[] {
  return Object.keys(view) as F[];
}

/** Print `result` in the command's `--format` through `view`. */
export function show<R, F extends string>(ctx: CommandContext, view: View<R, F>, result: R): void {
  const format = ctx.format as F;
  if (!Object.hasOwn(view, format)) throw new Error(`no ${ctx.format} view for this result (a bug in asgard: the command's formats and its view disagree)`);
  const render = view[format] as (r: R) => unknown;
  if (format === 'json') ctx.json(render(result));
  else ctx.out(render(result) as string);
}
