import { describe, expect, it } from 'vitest';
import { MODEL_IDS, loadModel, parameterCount, tensorSizes } from '../src/models.js';

// The published figures, written out here independently of the files' own "published" field.
const PUBLISHED: Record<string, { tensors: number; parameters: number }> = {
  'gpt2-small': { tensors: 148, parameters: 124_439_808 }, // GPT-2 small with tied embeddings (Hugging Face "gpt2")
  resnet50: { tensors: 161, parameters: 25_557_032 }, // torchvision ResNet50_Weights.IMAGENET1K_V1
  mlp: { tensors: 6, parameters: 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10 },
  'tiny-1000x10': { tensors: 1000, parameters: 10_000 },
};

describe('model shape lists', () => {
  it.each(MODEL_IDS)('%s adds up to its published tensor and parameter counts', (id) => {
    const model = loadModel(id);
    expect(model.tensors).toHaveLength(PUBLISHED[id]!.tensors);
    expect(parameterCount(model)).toBe(PUBLISHED[id]!.parameters);
    expect(model.published).toEqual(PUBLISHED[id]);
    expect(model.source.length).toBeGreaterThan(20);
    expect(new Set(model.tensors.map((t) => t.name)).size).toBe(model.tensors.length);
  });

  it('GPT-2 small: embeddings, 12 blocks of 12 tensors, the final norm', () => {
    const model = loadModel('gpt2-small');
    const shape = (name: string): readonly number[] | undefined => model.tensors.find((t) => t.name === name)?.shape;
    expect(shape('wte.weight')).toEqual([50257, 768]);
    expect(shape('wpe.weight')).toEqual([1024, 768]);
    expect(shape('h.11.attn.c_attn.weight')).toEqual([768, 2304]);
    expect(shape('h.0.mlp.c_proj.weight')).toEqual([3072, 768]);
    expect(model.tensors.filter((t) => t.name.startsWith('h.')).length).toBe(144);
    expect(model.tensors.at(-1)).toEqual({ name: 'ln_f.bias', shape: [768] });
  });

  it('ResNet-50: 53 convolutions, 53 batch norms of weight and bias, the classifier', () => {
    const model = loadModel('resnet50');
    const sizes = tensorSizes(model);
    expect(model.tensors.filter((t) => t.shape.length === 4)).toHaveLength(53);
    expect(model.tensors.filter((t) => /bn\d\.(weight|bias)$|downsample\.1\./.test(t.name))).toHaveLength(106);
    expect(model.tensors.find((t) => t.name === 'fc.weight')?.shape).toEqual([1000, 2048]);
    expect(model.tensors.find((t) => t.name === 'layer4.2.conv2.weight')?.shape).toEqual([512, 512, 3, 3]);
    expect(Math.max(...sizes)).toBe(512 * 512 * 3 * 3); // layer4 conv2, larger than fc (2048 × 1000)
  });

  it('refuses an unknown model', () => {
    expect(() => loadModel('gpt5')).toThrow(/Unknown model "gpt5"/);
  });
});
