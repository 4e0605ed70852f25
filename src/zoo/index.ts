/** The offline zoo: small models trained by circuitscope, with verified circuits. */
export { type ZooRecipe, type StreamOption, ZOO_LIMITS, checkRecipe } from './recipe.js';
export { RECIPES } from './recipes.js';
export { ZOO_RECIPES, DEFAULT_ZOO_MODEL, zooNames, recipeByName, zooDir, zooFolder, resolveZooModel, readRecipe, freshZooModel, loadZooModel, zooConfigJson } from './model.js';
export { streamFor, taskBatch, stepSeed, drawOptions } from './stream.js';
export { type ZooTrainOptions, type ZooTrainResult, type TrainedInfo, trainZooModel, saveZooModel, evalTask, zooAccuracy } from './train.js';
export { type ZooCircuit, type EdgeLine, computeCircuit, circuitDifferences, edgeLine, circuitPath, readZooCircuit } from './circuit.js';
export { type AttentionCheck, inductionAttentionCheck } from './attention-check.js';
export { type ZooResults, type VerifyReport, type BuildOptions, buildZooModel, verifyZooModel } from './build.js';
export { scoreAgainstZoo } from './score.js';
