// What a device setting may be (docs/protocol/v4.md §4 settings.xml, §6 SET_SETTINGS): the rules
// both the file a device reports and the flag staff set obey. Protocol rules, so the XML
// readers and writers import them from here, never the other way round.

/** A setting's name. */
export const SETTING_NAME = /^[a-z][a-z0-9_]{0,63}$/;
/** Characters of one value at most. */
export const MAX_SETTING_VALUE_LENGTH = 1000;
/** Settings in one file or one flag at most. */
export const MAX_SETTINGS = 100;
