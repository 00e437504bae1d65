// The build (web/build.ts) turns this import into the list of every file in web/src/locales/.
declare module 'virtual:locales' {
  const locales: Array<import('./i18n.js').Locale>;
  export default locales;
}
