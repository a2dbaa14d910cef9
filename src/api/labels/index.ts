// Label selectors: the string syntax of `kubectl get -l`, metav1.LabelSelector,
// and matching labels against either.

export { parseLabelSelector, labelSelectorParseError } from './parse.js';
export { Requirement, Selector, newRequirement, requirementErrors, RequirementError, binaryOperators, type Labels, type Operator } from './selector.js';
export {
  selectorFromLabelSelector,
  formatLabelSelector,
  parseToLabelSelector,
  type LabelSelector,
  type LabelSelectorRequirement,
  type LabelSelectorOperator,
} from './label-selector.js';
