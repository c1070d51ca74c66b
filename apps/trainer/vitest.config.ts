import { txVitestConfig } from '@tx/config/vitest';

export default txVitestConfig();
