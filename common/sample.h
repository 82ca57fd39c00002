/* sample: the flags of a counter's sample, as the collector sends them and
 * the store keeps them (wire values). */
#ifndef DROPSCOPE_SAMPLE_H
#define DROPSCOPE_SAMPLE_H

#define SAMPLE_FIRST 1u /* first value of this incarnation: a baseline, delta 0 */
#define SAMPLE_RESET 2u /* the counter restarted; delta counts from the restart */

#endif
