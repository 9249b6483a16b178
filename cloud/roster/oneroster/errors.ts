/** Every reason a bundle is refused whole: the route documents them all (OpenAPI) from this list. */
export const BUNDLE_ERROR_CODES = [
  'not_a_zip', 'missing_file', 'missing_header', 'manifest_mismatch', 'malformed_csv', 'unsafe_path', 'bundle_too_large',
  'too_many_entries', 'last_admin', 'unsupported_version', 'duplicate_file', 'not_utf8',
] as const;
export type BundleErrorCode = (typeof BUNDLE_ERROR_CODES)[number];

/** A bundle refused whole (not a zip, a missing file or header, a manifest that does not match), with a code and the reason. */
export class BundleError extends Error {
  constructor(
    readonly code: BundleErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BundleError';
  }
}
