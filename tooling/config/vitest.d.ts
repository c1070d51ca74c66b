import type { UserConfig } from 'vitest/config';

export declare function txVitestConfig(overrides?: UserConfig): UserConfig;
