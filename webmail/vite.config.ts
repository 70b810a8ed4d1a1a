// Builds the webmail SPA into dist/webmail, served at / by src/http/webmail-static.ts.
// Run from the repository root as `vite build webmail` (this directory is Vite's root).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: '../dist/webmail',
    emptyOutDir: true,
    // The app shell's CSP has no 'unsafe-inline': every script and style is a file.
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2022',
    reportCompressedSize: true,
  },
});
