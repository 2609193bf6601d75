/** esbuild bundles the imported CSS into app.css. */
declare module '*.css';
