import type { Release } from './release.js';

/** A release as the HTTP API shows it, and as the CLI reads it. */
export interface ReleaseView extends Release {
  /** The release's API URL, e.g. `/api/releases/rel_...`. */
  url: string;
  /** The API URL of the run that built it. */
  runUrl: string;
}
