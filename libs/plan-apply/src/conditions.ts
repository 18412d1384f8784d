import type { PlanCondition } from '@nerion/planner';
import { findSymbol } from '@nerion/planner/source';
import { firstSyntaxError, grammarFor, type Parsers } from './source.js';
import { hasSymbol } from './syntax.js';

/** Why a condition does not hold, or undefined when it holds. `read` returns a file's text, or null when absent. */
export function checkCondition(
  condition: PlanCondition,
  read: (path: string) => string | null,
  parsers: Parsers,
): string | undefined {
  const text = read(condition.path);
  switch (condition.kind) {
    case 'file_exists':
      return text === null ? `${condition.path} does not exist` : undefined;
    case 'file_absent':
      return text === null ? undefined : `${condition.path} exists`;
    case 'symbol_exists':
    case 'symbol_absent': {
      const wanted = condition.kind === 'symbol_exists';
      if (condition.symbol === undefined) return `${condition.kind} on ${condition.path} names no symbol`;
      if (text === null)
        return wanted ? `${condition.path} does not exist (looking for ${condition.symbol})` : undefined;
      const grammar = grammarFor(condition.path);
      if (grammar === undefined) return `nerion has no parser for ${condition.path} (looking for ${condition.symbol})`;
      const source = parsers.parse(grammar, text);
      try {
        const error = firstSyntaxError(source);
        if (error)
          return `${condition.path} does not parse (line ${error.line}), so ${condition.symbol} cannot be looked up`;
        const found =
          findSymbol(source, condition.symbol) !== undefined ||
          hasSymbol(source.tree.rootNode, grammar, condition.symbol);
        if (wanted && !found) return `${condition.path} does not define ${condition.symbol}`;
        if (!wanted && found) return `${condition.path} defines ${condition.symbol}`;
        return undefined;
      } finally {
        source.release();
      }
    }
  }
}

export function describeCondition(condition: PlanCondition): string {
  return `${condition.kind} ${condition.path}${condition.symbol === undefined ? '' : ` ${condition.symbol}`}`;
}
