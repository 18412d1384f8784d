// @nerion/catalog: under construction (issue #6). Nothing is exported yet.
export {};
