/** A bundle refused whole (not a zip, a missing file or header, a manifest that does not match), with a code and the reason. */
export class BundleError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'BundleError';
  }
}
