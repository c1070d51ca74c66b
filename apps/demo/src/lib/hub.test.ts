import { describe, expect, it } from 'vitest';
import { HUB_MODELS, hubFolderUrl } from './hub.js';
import { nameOf } from '../model/folder.js';

describe('hubFolderUrl', () => {
  it("reads a repository's main branch through resolve/main/, on the Hub or a mirror", () => {
    expect(hubFolderUrl(HUB_MODELS[0].repo)).toBe('https://huggingface.co/openai-community/gpt2/resolve/main/');
    expect(hubFolderUrl('openai-community/gpt2', 'http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080/openai-community/gpt2/resolve/main/');
    // The page names the model by its repository.
    expect(nameOf({}, hubFolderUrl('openai-community/gpt2').replace(/\/$/, ''))).toBe('gpt2');
  });
});
