// The kernels of one instruction set: this file is compiled once per ISA (binding.gyp sets
// QKV_ISA, the namespace, and QKV_W, floats per vector, with that ISA's -m flags).
#include <cstdlib>
#include "kernels.h"
#include "gemm.h"
#include "rows.h"
#include "attention.h"
#include "strided.h"
#include "losses.h"
#include "maxpool.h"
#include "random.h"

namespace qkv { namespace QKV_ISA {

#define QKV_STR2(x) #x
#define QKV_STR(x) QKV_STR2(x)

static const KernelTable kTable = {
  QKV_STR(QKV_ISA), gemmPlan, gemmTask, unary, geluGrad, adamw, binary,
  layerNorm, layerNormGrad, layerNormParamGrads, softmax, softmaxGrad, flashForward, flashBackward,
  binaryStrided, whereStrided, crossEntropy, crossEntropyGrad, gather, scatterAdd, linearForward, linearBackward,
  maxPool, maxPoolGrad, dropout, fmaPeak,
};

const KernelTable* table() { return &kTable; }

}}  // namespace qkv::QKV_ISA
