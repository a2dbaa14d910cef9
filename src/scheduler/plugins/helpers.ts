// Score normalization shared by plugins (Kubernetes' plugins/helper).
import { maxNodeScore } from '../framework.js';

/**
 * Scales scores so the highest becomes maxNodeScore; reversed, the highest
 * becomes 0 (for raw scores where less is better). All zero stays zero, or
 * all maxNodeScore when reversed.
 */
export function defaultNormalizeScore(scores: number[], reverse: boolean, max = maxNodeScore): void {
  let top = 0;
  for (const s of scores) if (s > top) top = s;
  if (top === 0) {
    if (reverse) scores.fill(max);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    let s = Math.trunc((max * scores[i]!) / top);
    if (reverse) s = max - s;
    scores[i] = s;
  }
}
