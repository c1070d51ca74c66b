// Models one click away on the Hugging Face Hub, read through the Hub's
// `resolve/main/` URLs (the files of the repository's main branch, as
// `save_pretrained` wrote them). `?hub=URL` points the page at a mirror
// laid out the same way (the browser tests serve one on 127.0.0.1).

/** A model on the Hub the page offers: its repository, its label, and what it downloads. */
export interface HubModel {
  repo: string;
  label: string;
  /** What the reader is warned of before a byte is read. */
  size: string;
}

/** GPT-2 small: 124M parameters, model.safetensors 548 MB (F32). */
export const HUB_MODELS: readonly HubModel[] = [
  { repo: 'openai-community/gpt2', label: 'GPT-2 small from Hugging Face', size: 'about 550 MB (model.safetensors, 124M parameters in F32)' },
];

/** The Hub, unless the page was given a mirror. */
export const HUB = 'https://huggingface.co/';

/** The folder URL of a repository's main branch: `${hub}${repo}/resolve/main/`. */
export function hubFolderUrl(repo: string, hub = HUB): string {
  return `${hub.endsWith('/') ? hub : `${hub}/`}${repo}/resolve/main/`;
}
