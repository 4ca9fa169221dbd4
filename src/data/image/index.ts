// Image input that runs anywhere (pixels, resizing, the front end); decoding is Node-only
// (src/data/image/decode.ts, exported from src/index.ts).
export { resizeBilinear, toImageInput, imageFrontEnd, describePreprocessing, type Pixels, type ImageInput, type ImageFrontEnd } from './pixels.js';
