import { defineConfig } from 'vite';

// The API role serves dist/ at the site root: relative asset URLs keep the build
// independent of the host and port it is served from.
export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Hashed names under assets/ are cached for a year by the API (packages/api/src/http/static.ts).
    assetsDir: 'assets',
    sourcemap: true,
    target: 'es2022',
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npm run dev -w @tidemark/web`: the API of a running `tidemark start` behind Vite's dev server.
    proxy: { '/api': 'http://127.0.0.1:4000', '/openapi.json': 'http://127.0.0.1:4000' },
  },
});
