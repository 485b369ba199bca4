// CLI views: how one command result is printed in each `--format` (Terraform's `views` package is
// the model). A command computes its result and hands it to `show(ctx, view, result)`; it never
// branches on `ctx.format` itself. A view is a record of renderers, one per format, the default
// first: `json` returns the document (printed once, by ctx.json), every other format returns what
// goes to stdout, or pieces for stdout and stderr in the order they are printed.
// The command's `formats` are the view's (`formatsOf`), so a format cannot be declared without a
// renderer, nor rendered without being declared.
//
// What a command prints on its way to the result (a plan before the confirmation, warnings,
// progress) goes through `preview` or `note`: every format shows it but json, whose stdout holds
// the document alone.
//
// To add a format to a command: add its renderer to the command's view (src/cli/views/).

import { isAbsolute, relative } from 'node:path';
import type { CommandContext } from './command.js';

/** What a renderer knows of the terminal: colour on each stream, and how paths are shown. */
export interface ViewIO {
  readonly color: boolean;
  readonly colorErr: boolean;
  /** A path as the user sees it: relative to the working folder when inside it. */
  readonly path: (file: string) => string;
}

/** Text for stdout, or pieces for stdout and stderr in the order they are printed. */
export type Printed = string | readonly Piece[];
export type Piece = { readonly out: string } | { readonly err: string };

/**
 * A JSON document already printed as `JSON.stringify(doc, null, 2)` prints it: a `json` renderer
 * may return one when it has the document's text at hand (the plan, src/planner/plan-json.ts).
 */
export class JsonText {
  constructor(readonly text: string) {}
}

/** One renderer per format: `json` gives the document (or its JsonText), the others text. */
export type View<R, F extends string = 'text' | 'json'> = {
  readonly [K in F]: K extends 'json' ? (result: R, io: ViewIO) => unknown : (result: R, io: ViewIO) => Printed;
};

/** The formats a view renders, its default first (a command's `formats`). */
export function formatsOf<R, F extends string>(view: View<R, F>): readonly F[] {
  return Object.keys(view) as F[];
}

/** Paths in messages: relative to cwd when inside it. */
export function displayPath(cwd: string): (file: string) => string {
  return (file) => {
    if (!isAbsolute(file)) return file;
    const rel = relative(cwd, file);
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
  };
}

export const viewIO = (ctx: CommandContext): ViewIO => ({ color: ctx.color, colorErr: ctx.colorErr, path: displayPath(ctx.io.cwd) });

/** Print `result` in the command's `--format` through `view`. */
export function show<R, F extends string>(ctx: CommandContext, view: View<R, F>, result: R): void {
  const format = ctx.format as F;
  if (!Object.hasOwn(view, format)) throw new Error(`no ${ctx.format} view for this result (a bug in asgard: the command's formats and its view disagree)`);
  const render = view[format] as (r: R, io: ViewIO) => unknown;
  if (format === 'json') ctx.json(render(result, viewIO(ctx)));
  else print(ctx, render(result, viewIO(ctx)) as Printed);
}

/**
 * Print a result every command may end with (the diagnostics of an invalid spec) through `view`:
 * in the command's format when the view has it, else in the view's default format.
 */
export function showAny<R, F extends string>(ctx: CommandContext, view: View<R, F>, result: R): void {
  show(Object.hasOwn(view, ctx.format) ? ctx : { ...ctx, format: formatsOf(view)[0] }, view, result);
}

/** Print what comes before the result through `view` (see above): as showAny does, but never in json. */
export function preview<R, F extends string>(ctx: CommandContext, view: View<R, F>, result: R): void {
  if (!printsDocument(ctx)) showAny(ctx, view, result);
}

/** Print a note on the way (warnings, progress, what was saved where): in every format but json. */
export function note(ctx: CommandContext, printed: Printed | ((io: ViewIO) => Printed)): void {
  if (!printsDocument(ctx)) print(ctx, typeof printed === 'function' ? printed(viewIO(ctx)) : printed);
}

/** The command prints one JSON document on stdout and nothing else there (--format json). */
export const printsDocument = (ctx: Pick<CommandContext, 'format'>): boolean => ctx.format === 'json';

function print(ctx: CommandContext, printed: Printed): void {
  if (typeof printed === 'string') ctx.out(printed);
  else for (const p of printed) 'out' in p ? ctx.out(p.out) : ctx.err(p.err);
}
