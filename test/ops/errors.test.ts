// Wrong input gives an error that names the op and the shapes (or dtype, index, axis) involved.
import { test } from 'node:test';
import * as q from '../../src/index.js';
import { throwsOp } from '../helpers.js';

test('mismatched shapes name the op and both shapes', () => {
  throwsOp(() => q.add(q.zeros([2, 3]), q.zeros([4])), 'add', /^add: shapes \[2, 3\] and \[4\] cannot be broadcast together$/);
  throwsOp(() => q.matmul(q.zeros([2, 3]), q.zeros([4, 5])), 'matmul', /shapes \[2, 3\] and \[4, 5\] cannot be multiplied \(3 != 4\)/);
  throwsOp(() => q.matmul(q.zeros([2, 2, 3]), q.zeros([3, 3, 1])), 'matmul', /\[2\] and \[3\] cannot be broadcast/);
  throwsOp(() => q.reshape(q.zeros([2, 3]), [4, 2]), 'reshape', /cannot reshape 6 elements into \[4, 2\]/);
  throwsOp(() => q.concat([q.zeros([2, 3]), q.zeros([2, 4])], 0), 'concat', /\[2, 3\], \[2, 4\] do not match outside axis 0/);
  throwsOp(() => q.layerNorm(q.zeros([2, 3]), [4]), 'layerNorm', /normalizedShape \[4\] does not match the last dims of input \[2, 3\]/);
  throwsOp(() => q.crossEntropy(q.zeros([2, 3]), q.zeros([3], { dtype: 'int32' })), 'crossEntropy', /targets of shape \[3\] do not match logits \[2, 3\]/);
  throwsOp(() => q.conv1d(q.zeros([1, 3, 5]), q.zeros([2, 4, 3])), 'conv1d', /input \[1, 3, 5\] and weight \[2, 4, 3\] do not match/);
  throwsOp(() => q.expand(q.zeros([2, 3]), [2, 4]), 'expand', /cannot expand shape \[2, 3\] to \[2, 4\]/);
  throwsOp(() => q.maskedFill(q.zeros([2, 3]), q.zeros([3, 3]), 0), 'maskedFill', /\[2, 3\] and \[3, 3\] cannot be broadcast/);
  throwsOp(() => q.split(q.zeros([5]), [2, 2]), 'split', /sizes \[2, 2\] do not add up to 5/);
  throwsOp(() => q.linear(q.zeros([2, 3]), q.zeros([4, 5])), 'linear', /input \[2, 3\] does not match weight \[4, 5\]/);
});

test('wrong dtype names the op, the dtype wanted and the one given', () => {
  throwsOp(() => q.embedding(q.zeros([2]), q.zeros([4, 3])), 'embedding', /ids must be int32, got float32 tensor of shape \[2\]/);
  throwsOp(() => q.crossEntropy(q.zeros([2, 3]), q.zeros([2])), 'crossEntropy', /targets must be int32, got float32/);
  throwsOp(() => q.matmul(q.zeros([2, 2], { dtype: 'int32' }), q.zeros([2, 2])), 'matmul', /first input must be float32, got int32/);
  throwsOp(() => q.softmax(q.zeros([2], { dtype: 'int32' })), 'softmax', /must be float32, got int32/);
});

test('index out of range names the op, the index and the range', () => {
  throwsOp(() => q.embedding(q.tensor([1, 4], { dtype: 'int32' }), q.zeros([4, 3])), 'embedding', /id 4 at flat position 1 .* out of range for a table of 4 rows/);
  throwsOp(() => q.crossEntropy(q.zeros([2, 3]), q.tensor([0, 3], { dtype: 'int32' })), 'crossEntropy', /target 3 at flat position 1 is out of range for 3 classes/);
  throwsOp(() => q.select(q.zeros([2, 3]), 1, 3), 'select', /index 3 is out of range for axis 1 of size 3 \(shape \[2, 3\]\)/);
  throwsOp(() => q.topk(q.zeros([2, 3]), 4), 'topk', /k = 4 is out of range for axis 1 of size 3/);
});

test('axis out of range names the op, the axis and the rank', () => {
  throwsOp(() => q.sum(q.zeros([2, 3]), 2), 'sum', /axis 2 is out of range for a tensor of rank 2/);
  throwsOp(() => q.softmax(q.zeros([2, 3]), -3), 'softmax', /axis -3 is out of range for a tensor of rank 2/);
  throwsOp(() => q.permute(q.zeros([2, 3]), [0, 0]), 'permute', /dims \[0, 0\] are not a permutation of the 2 axes of \[2, 3\]/);
  throwsOp(() => q.cumsum(q.zeros([2]), 1), 'cumsum', /axis 1 is out of range/);
  throwsOp(() => q.concat([q.zeros([2])], 1), 'concat', /axis 1 is out of range/);
});

test('bad arguments: non-tensors, ragged arrays, bad options', () => {
  throwsOp(() => q.exp(undefined as unknown as q.Tensor), 'exp', /input must be a Tensor, got undefined/);
  throwsOp(() => q.tensor([[1, 2], [3]]), 'tensor', /ragged nested array: item 1 has shape \[1\], item 0 has \[2\]/);
  throwsOp(() => q.zeros([2, -1]), 'full', /shape must be an array of non-negative integers/);
  throwsOp(() => q.dropout(q.zeros([2]), 1.5), 'dropout', /p must be in \[0, 1\], got 1.5/);
  throwsOp(() => q.conv1d(q.zeros([1, 1, 5]), q.zeros([1, 1, 3]), null, { stride: 2, padding: 'same' }), 'conv1d', /padding='same' needs stride 1/);
  throwsOp(() => q.tensor([1, 2]).item(), 'item', /shape \[2\] has 2 elements, not 1/);
});
