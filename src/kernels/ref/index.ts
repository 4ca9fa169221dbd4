// The reference backend: plain TypeScript, every kernel, one JS array per allocation.
// It is the specification the fast backends are tested against.
import { arrayFor } from '../../core/dtype.js';
import type { Allocator, Backend, KernelSignatures } from '../contract.js';
import { conv1d, conv1dGradInput, conv1dGradWeight } from './conv1d.js';
import { crossEntropy, crossEntropyGrad } from './crossentropy.js';
import { dropout } from './dropout.js';
import { binaryKernels, copy, fill, geluGrad, unaryKernels, where } from './elementwise.js';
import { flashAttention, flashAttentionGrad } from './flash-attention.js';
import { gather, scatterAdd } from './gather.js';
import { layerNorm, layerNormGrad } from './layernorm.js';
import { causalLinearAttention, causalLinearAttentionGrad, linearAttentionStep } from './linear-attention.js';
import { matMul } from './matmul.js';
import { maxPool, maxPoolGrad } from './max-pool.js';
import { adamW, sgd } from './optim.js';
import { argMax, argMin, cumsum, max, min, sum, topK } from './reduce.js';
import { logSoftmax, logSoftmaxGrad, softmax, softmaxGrad } from './softmax.js';

const jsAllocator: Allocator = {
  allocate(dtype, length) {
    let data: ReturnType<typeof arrayFor> | null = arrayFor(dtype, length);
    return {
      view: () => {
        if (!data) throw new Error('use of freed memory');
        return data;
      },
      free: () => { data = null; },
    };
  },
};

const kernels: KernelSignatures = {
  Copy: copy, Fill: fill,
  ...unaryKernels, GeluGrad: geluGrad,
  ...binaryKernels, Where: where,
  Sum: sum, Max: max, Min: min, ArgMax: argMax, ArgMin: argMin, TopK: topK, Cumsum: cumsum,
  MaxPool: maxPool, MaxPoolGrad: maxPoolGrad,
  MatMul: matMul,
  Softmax: softmax, LogSoftmax: logSoftmax, SoftmaxGrad: softmaxGrad, LogSoftmaxGrad: logSoftmaxGrad,
  LayerNorm: layerNorm, LayerNormGrad: layerNormGrad,
  CrossEntropy: crossEntropy, CrossEntropyGrad: crossEntropyGrad,
  Gather: gather, ScatterAdd: scatterAdd,
  AdamW: adamW, Sgd: sgd,
  Dropout: dropout,
  Conv1d: conv1d, Conv1dGradInput: conv1dGradInput, Conv1dGradWeight: conv1dGradWeight,
  CausalLinearAttention: causalLinearAttention, CausalLinearAttentionGrad: causalLinearAttentionGrad,
  LinearAttentionStep: linearAttentionStep,
  FlashAttention: flashAttention, FlashAttentionGrad: flashAttentionGrad,
};

export const referenceBackend: Backend & { kernels: KernelSignatures } = {
  name: 'ref',
  stridedAttention: true,
  matmulBias: true,
  allocator: jsAllocator,
  kernels,
};
