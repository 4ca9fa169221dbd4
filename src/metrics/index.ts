// Evaluation metrics: classification (accuracy, per-label P/R/F1, confusion) and the
// sequence-generation scores BLEU and chrF as sacreBLEU computes them.
export { accuracy, perLabelPRF, confusion, type Label, type PRF, type LabelPRF, type PRFReport, type LabelOptions } from './classification.js';
export { corpusBleu, bleuFromStatistics, type BleuOptions, type BleuScore, type BleuSmoothing } from './bleu.js';
export { corpusChrF, type ChrFOptions, type ChrFScore } from './chrf.js';
