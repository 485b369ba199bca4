// Reading a compile profile's settings. Nested maps in a profile (`driver = { cores = 1 }`) arrive
// flattened (`driver.cores`). A target asks for what it needs; a missing or malformed setting
// becomes a diagnostic on the profile's span, collected so every gap is reported in one run.

import type { Profile, Resolvable } from '../ir/types.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { diag } from '../diagnostics/catalogue.js';
import { Codes } from '../diagnostics/catalogue.js';

export class ProfileSettings {
  readonly diagnostics: Diagnostic[] = [];

  constructor(
    readonly profile: Profile,
    private readonly target: string,
  ) {}

  /** The raw setting, by its flattened key (`driver.cores`); the target declares it in `<target>/settings.ts`. */
  get(key: string): Resolvable | undefined {
    return this.profile.settings[key];
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** A setting the target cannot do without; reports ASG4002 naming it when absent. */
  require(key: string, why: string): Resolvable | undefined {
    const v = this.get(key);
    if (v === undefined) {
      this.diagnostics.push(
        diag(
          Codes.MissingProfileSetting,
          `profile \`${this.profile.name}\` has no \`${key}\`, which the ${this.target} target needs (${why})`,
          this.profile.span,
          {
            hint: `add \`${key} = …\` to \`profile ${this.profile.name} { … }\``,
          },
        ),
      );
    }
    return v;
  }

  /** A literal string setting (images, versions, names: things that must be known when compiling). */
  literalString(key: string, why: string, fallback?: string): string | undefined {
    const v = fallback === undefined ? this.require(key, why) : this.get(key);
    if (v === undefined) return fallback;
    if (v.kind !== 'literal') {
      this.invalid(key, `must be a literal value, not ${v.kind}("${v.name}") (${why})`);
      return undefined;
    }
    return String(v.value);
  }

  literalNumber(key: string, fallback: number): number {
    const v = this.get(key);
    if (v === undefined) return fallback;
    if (v.kind !== 'literal' || typeof v.value !== 'number') {
      this.invalid(key, 'must be a number');
      return fallback;
    }
    return v.value;
  }

  /** The S3 warehouse (`s3://` or `s3a://bucket/prefix`) the kubernetes targets read and write. */
  s3Warehouse(): S3Location | undefined {
    const w = this.literalString('warehouse', 'an S3 warehouse such as "s3a://bucket/warehouse"');
    if (w === undefined) return undefined;
    const loc = parseS3(w);
    if (!loc) this.invalid('warehouse', `must be an S3 location like "s3a://bucket/prefix", got "${w}"`);
    return loc;
  }

  invalid(key: string, message: string): void {
    this.diagnostics.push(diag(Codes.InvalidProfileSetting, `profile \`${this.profile.name}\` setting \`${key}\` ${message}`, this.profile.span));
  }
}

export interface S3Location {
  readonly bucket: string;
  /** Prefix without leading or trailing slashes ('' for the bucket root). */
  readonly prefix: string;
}

export function parseS3(url: string): S3Location | undefined {
  const m = /^s3a?:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) return undefined;
  return { bucket: m[1], prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

/** `s3a://bucket/prefix/part…` (Spark and Hadoop read S3 through the s3a connector). */
export function s3a(loc: S3Location, ...parts: string[]): string {
  return ['s3a://' + loc.bucket, loc.prefix, ...parts].filter((p) => p !== '').join('/');
}

/** `${NAME}` placeholder for an env/secret reference, the value for a literal: what config files carry. */
export function placeholder(v: Resolvable): string | number | boolean {
  return v.kind === 'literal' ? v.value : `\${${v.name}}`;
}
