// @nerion/planner: under construction (issue #7). Nothing is exported yet.
export {};
