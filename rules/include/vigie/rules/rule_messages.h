// Messages of the rule loader (rule files, templates, references, lint), with stable codes.
// Tests assert on these constants; wording changes here only.
#pragma once

#include "vigie/config/diagnostics.h"

namespace vigie::rules {

using config::Message;

// Templates.
inline constexpr Message kTemplateSyntax{"template-syntax", "invalid template in '{}': {}"};
inline constexpr Message kTemplateUnknownVar{"unknown-template-variable",
                                             "unknown template variable '{}' in '{}'"};
inline constexpr Message kTemplateUnsupported{
    "template-syntax", "'{}' uses {}, which rule templates do not support"};

// Tables and keys.
inline constexpr Message kUnknownTable{"unknown-table", "unknown table '{}' in a rule file"};
inline constexpr Message kNotArrayOfTables{
    "wrong-type", "'{}' must be an array of tables, written [[{}]]"};
inline constexpr Message kEmptyName{"bad-name", "'name' must not be empty"};
inline constexpr Message kBadName{
    "bad-name", "name '{}' may only use letters, digits, '-', '_' and '.'"};
inline constexpr Message kDuplicate{"duplicate-name", "duplicate {} name '{}'"};
inline constexpr Message kNoteFirstDefined{"", "first defined at {}"};
inline constexpr Message kWindowConflict{
    "window-conflict", "rule '{}' has more than one window clause: {} (keep one)"};
inline constexpr Message kMaxGapWithoutFor{"window-conflict", "'max_gap' only applies to 'for'"};
inline constexpr Message kBadSeverity{"bad-value", "'severity' must be one of {}, not '{}'"};
inline constexpr Message kNotPositive{"out-of-range", "'{}' must be greater than zero"};
inline constexpr Message kLabelValue{"wrong-type", "label '{}' must be a string"};
inline constexpr Message kEmptyCondition{"expr-empty", "'{}' must not be empty"};

// References.
inline constexpr Message kUnknownAction{"unknown-action", "unknown action '{}' in '{}'"};
inline constexpr Message kUnknownRole{"unknown-role", "unknown role '{}' in 'allow'"};
inline constexpr Message kUnknownRule{"unknown-rule", "unknown rule '{}' in 'inhibited_by'"};
inline constexpr Message kUnknownActionType{"unknown-kind", "unknown action type '{}'"};
// The action kind's own check of its options (what a worker would refuse at run time).
inline constexpr Message kBadActionOption{"bad-action-option", "{}"};
inline constexpr Message kKindNotRunnable{
    "kind-not-runnable",
    "action type '{}' is validated but cannot run in this version: a worker fails its jobs"};
inline constexpr Message kMissingParam{
    "missing-parameter",
    "action '{}' needs parameter '{}', which {} does not provide (as a placeholder, a label or "
    "group_by)"};
inline constexpr Message kInhibitEqualLabel{
    "unknown-label", "'inhibited_by.equal' label '{}' is not a label of rule '{}'"};
inline constexpr Message kSelfInhibit{"self-inhibit", "rule '{}' cannot be inhibited by itself"};

// Commands.
inline constexpr Message kBadPattern{"bad-pattern", "invalid command pattern: {}"};
inline constexpr Message kDuplicatePattern{
    "duplicate-name", "command pattern '{}' is already defined"};

// Lint (warnings).
inline constexpr Message kUnusedAction{
    "unused-action", "action '{}' is never offered by a rule nor run by a command"};
inline constexpr Message kUnusedMacro{"unused-macro", "macro '{}' is never used"};
inline constexpr Message kUnusedList{"unused-list", "list '{}' is never used"};
inline constexpr Message kNeverMatches{
    "never-matches", "rule '{}' can never match: '{}' cannot equal both {} and {}"};
inline constexpr Message kResolveAfterResent{
    "resolve-after-resent",
    "rule '{}': Alertmanager re-sends are duplicates and do not count as seen, so 'resolve_after' "
    "resolves alerts Prometheus still reports: use resolve_when = 'status == \"resolved\"'"};
inline constexpr Message kCountOfOne{
    "count-of-one",
    "'count.at_least = 1' fires on every event: remove 'count' for a plain match"};
inline constexpr Message kTemplateTypo{
    "template-typo", "template variable '{}' is read from the event; did you mean '{}'?"};
inline constexpr Message kDisabledRule{"disabled-rule", "rule '{}' is disabled"};

}  // namespace vigie::rules

namespace vigie::rules {

// Conditions (`when`, `resolve_when`, macros).
inline constexpr Message kCondEmpty{"expr-empty", "condition is empty"};
inline constexpr Message kCondUnexpectedEnd{"expr-syntax", "unexpected end of condition: expected {}"};
inline constexpr Message kCondUnexpectedToken{"expr-syntax", "unexpected '{}': expected {}"};
inline constexpr Message kCondTrailing{"expr-syntax", "unexpected '{}' after a complete condition"};
inline constexpr Message kCondUnbalancedOpen{"expr-paren", "'(' is never closed"};
inline constexpr Message kCondUnbalancedClose{"expr-paren", "')' has no matching '('"};
inline constexpr Message kCondUnterminatedString{"expr-syntax", "string is never closed"};
inline constexpr Message kCondBadEscape{"expr-syntax", "unknown escape '\\{}' in string"};
inline constexpr Message kCondBadNumber{"expr-syntax", "'{}' is not a number or duration"};
inline constexpr Message kCondUnknownOperator{"expr-operator", "unknown operator '{}'"};
inline constexpr Message kCondBadPath{"expr-syntax", "invalid field path: {}"};
inline constexpr Message kCondBareField{
    "expr-bare-field",
    "'{}' is neither a macro nor followed by an operator (did you mean '{} exists'?)"};
inline constexpr Message kCondUnknownList{"expr-unknown-list", "unknown list '{}'"};
inline constexpr Message kCondMacroCycle{"expr-macro-cycle", "macro '{}' refers to itself through {}"};
inline constexpr Message kCondTypeMismatch{"expr-type", "operator '{}' needs {}, not {}"};
inline constexpr Message kCondBadRegex{"expr-regex", "invalid regular expression: {}"};
inline constexpr Message kCondInMacro{"", "in macro '{}', used here"};

}  // namespace vigie::rules
