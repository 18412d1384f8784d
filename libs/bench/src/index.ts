// @nerion/bench: under construction (issue #8). Nothing is exported yet.
export {};
