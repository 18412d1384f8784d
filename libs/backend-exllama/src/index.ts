// @nerion/backend-exllama: under construction (issue #5). Nothing is exported yet.
export {};
