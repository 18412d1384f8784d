// @nerion/backend-llamacpp: under construction (issue #3). Nothing is exported yet.
export {};
