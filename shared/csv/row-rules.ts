// The rules of the device log columns in words, for rejection details (docs/protocol/v4.md §4.5):
// one sentence per rule, shared by the row validators of every channel.
import { TEMPERATURE_MAX, TEMPERATURE_MIN } from '../protocol/codes.js';

export const RECORD_ID_RULE = 'is not an integer from 1 to 2^53-1';
export const TEMPERATURE_RULE = `is not a plain decimal from ${TEMPERATURE_MIN.toFixed(1)} to ${TEMPERATURE_MAX.toFixed(1)} (°C)`;
