/**
 * Colour for people, never for pipes: picocolors with colour switched on only when environment.ts's
 * colorEnabled() says so for that stream (a TTY, NO_COLOR, FORCE_COLOR). Every coloured word is also
 * readable without colour (`ok`, `FAIL`, `Error [CODE]`), so tests and scripts never depend on it.
 */
import picocolors from 'picocolors';
import { colorEnabled } from './environment.js';

export type Colors = ReturnType<typeof picocolors.createColors>;

const cache = new Map<NodeJS.WriteStream, Colors>();

/** The colour functions for text written to `stream` (identity functions when colour is off). */
export function colorsFor(stream: NodeJS.WriteStream = process.stdout): Colors {
  let colors = cache.get(stream);
  if (colors === undefined) {
    colors = picocolors.createColors(colorEnabled(stream));
    cache.set(stream, colors);
  }
  return colors;
}
