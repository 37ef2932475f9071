import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';
import { frozenPrototypeSafe } from './frozen-prototype';

// Tauri loads the bundle from its own protocol, so every asset URL is relative.
export default defineConfig({
  base: './',
  plugins: [frozenPrototypeSafe(), react()],
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
    restoreMocks: true,
  },
});
