import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

/**
 * The web client, served by Parley at /chat/ (src/http/routes/webClient.ts). Every built file sits flat in
 * web/dist (no assets/ folder) so each is one `/chat/{asset}`; `embed.js` keeps a fixed name for the snippet,
 * everything else is content-hashed and cached for a year.
 */
export default defineConfig({
  root: here('.'),
  base: '/chat/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    assetsDir: '',
    target: 'es2020',
    sourcemap: false,
    reportCompressedSize: false,
    rollupOptions: {
      input: { index: here('index.html'), embed: here('src/embed.ts') },
      output: {
        entryFileNames: (chunk) => (chunk.name === 'embed' ? 'embed.js' : '[name]-[hash].js'),
        chunkFileNames: '[name]-[hash].js',
        assetFileNames: '[name]-[hash][extname]',
      },
    },
  },
});
