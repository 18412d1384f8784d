// @nerion/backend-ollama: under construction (issue #4). Nothing is exported yet.
export {};
