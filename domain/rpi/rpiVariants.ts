/** Which RPI to compute; every variant keeps the unadjusted RPI beside its own value. */
export const RPI_VARIANTS = ['unadjusted', 'adjusted', 'non-conference'] as const;
export type RpiVariant = (typeof RPI_VARIANTS)[number];
