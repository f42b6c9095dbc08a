/** Engine version written into every image's metadata; bump when outputs for the same inputs change. */
export const ENGINE_VERSION = '0.1.0';
