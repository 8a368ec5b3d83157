package continuum

// #include <stdbool.h>
// #include "continuum.h"
import "C"

import (
	"encoding/json"
	"strconv"
)

// CheckPolicy parses and validates a policy document and gives its warnings. fileName is the
// name diagnostics give it ("" for `<text>`). A document with errors is an [*Error] with
// status [StatusPolicy] whose Diagnostics hold the errors and warnings.
func CheckPolicy(text, fileName string) ([]Diagnostic, error) {
	a := newArgs("policy_check")
	ctext := a.str("text", text)
	cname := a.optional("file_name", fileName)
	warnings := []Diagnostic{}
	err := callJSON(a, &warnings, func(out **C.char) C.ContinuumStatus {
		return C.continuum_policy_check(ctext, cname, out)
	})
	if err != nil {
		return nil, err
	}
	return warnings, nil
}

// FormatPolicy gives a policy document in the canonical layout (comments kept; the formatter
// checks that the meaning did not change).
func FormatPolicy(text, fileName string) (string, error) {
	a := newArgs("policy_format")
	ctext := a.str("text", text)
	cname := a.optional("file_name", fileName)
	return callText(a, func(out **C.char) C.ContinuumStatus {
		return C.continuum_policy_format(ctext, cname, out)
	})
}

// PolicyDocument is a policy document's model, in the policy API's shape.
type PolicyDocument struct {
	Name        string   `json:"name"` // the file name given, if any
	Description string   `json:"description"`
	Policies    []Policy `json:"policies"`
}

// Policy is the rules of one realm (`quota::/sandbox`).
type Policy struct {
	Realm string       `json:"realm"`
	Rules []PolicyRule `json:"rules"`
}

// PolicyRule is a rule: consequents that hold when its condition does (always, without one).
type PolicyRule struct {
	Condition   *PolicyCondition   `json:"condition"`
	Consequents []PolicyConsequent `json:"consequents"`
}

// PolicyCondition is a condition: a clause, or all, any or not of others.
type PolicyCondition struct {
	Op string // clause, all, any, not
	// A clause: `issuer->claim comparator value`.
	Issuer     string
	Claim      string
	Comparator string
	Value      *PolicyValue
	// all and any: the conditions; not: the one it negates.
	Of []PolicyCondition
}

// UnmarshalJSON reads a condition of the model (`{"op": "clause", …}`).
func (c *PolicyCondition) UnmarshalJSON(data []byte) error {
	var raw struct {
		Op         string          `json:"op"`
		Issuer     string          `json:"issuer"`
		Claim      string          `json:"claim"`
		Comparator string          `json:"comparator"`
		Value      *PolicyValue    `json:"value"`
		Of         json.RawMessage `json:"of"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*c = PolicyCondition{Op: raw.Op, Issuer: raw.Issuer, Claim: raw.Claim,
		Comparator: raw.Comparator, Value: raw.Value}
	switch {
	case len(raw.Of) == 0 || string(raw.Of) == "null":
	case raw.Of[0] == '[':
		return json.Unmarshal(raw.Of, &c.Of)
	default:
		c.Of = make([]PolicyCondition, 1)
		return json.Unmarshal(raw.Of, &c.Of[0])
	}
	return nil
}

// PolicyConsequent is a consequent: a claim and its values (`total.memory 2GB`).
type PolicyConsequent struct {
	Claim  string        `json:"claim"`
	Values []PolicyValue `json:"values"`
}

// PolicyValue is a value in a policy document.
type PolicyValue struct {
	Type   string // string, word, number, template
	Text   string // a string's content, a word, a template's name
	Number string // a number's digits
	Unit   string // a number's unit, when written (GB)
}

// UnmarshalJSON reads a value of the model (`{"type": "number", "value": {"number": "2",
// "unit": "GB"}}`).
func (v *PolicyValue) UnmarshalJSON(data []byte) error {
	var raw struct {
		Type  string          `json:"type"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*v = PolicyValue{Type: raw.Type}
	if raw.Type == "number" {
		var number struct {
			Number string  `json:"number"`
			Unit   *string `json:"unit"`
		}
		if err := json.Unmarshal(raw.Value, &number); err != nil {
			return err
		}
		v.Number = number.Number
		if number.Unit != nil {
			v.Unit = *number.Unit
		}
		return nil
	}
	return json.Unmarshal(raw.Value, &v.Text)
}

// String gives the value as a document writes it: `"text"`, `word`, `2GB`, `[template]`.
func (v PolicyValue) String() string {
	switch v.Type {
	case "string":
		return strconv.Quote(v.Text)
	case "number":
		return v.Number + v.Unit
	case "template":
		return "[" + v.Text + "]"
	default:
		return v.Text
	}
}

// ParsePolicy parses a policy document into its model; fileName ("" for none) names it in
// diagnostics and is the model's Name.
func ParsePolicy(text, fileName string) (*PolicyDocument, error) {
	a := newArgs("policy_parse")
	ctext := a.str("text", text)
	cname := a.optional("file_name", fileName)
	var document PolicyDocument
	err := callJSON(a, &document, func(out **C.char) C.ContinuumStatus {
		return C.continuum_policy_parse(ctext, cname, out)
	})
	if err != nil {
		return nil, err
	}
	return &document, nil
}

// PolicyExportOptions choose what [ExportPolicies] writes.
type PolicyExportOptions struct {
	// Name is the one document to export; "" exports all of them.
	Name string
	// Force replaces existing files; without it nothing is written when any target exists
	// ([ErrConflict]).
	Force bool
}

// ExportPolicies writes the policy documents of a cluster folder (<clusterDir>/policy/) into
// outDir (created when missing) as <name>.pol files, and gives the files written. options
// may be nil.
func ExportPolicies(clusterDir, outDir string, options *PolicyExportOptions) ([]string, error) {
	if options == nil {
		options = &PolicyExportOptions{}
	}
	a := newArgs("policy_export")
	ccluster := a.str("cluster_dir", clusterDir)
	cout := a.str("out_dir", outDir)
	cname := a.optional("name", options.Name)
	force := C.bool(options.Force)
	var report struct {
		Files []string `json:"files"`
	}
	err := callJSON(a, &report, func(out **C.char) C.ContinuumStatus {
		return C.continuum_policy_export(ccluster, cout, cname, force, out)
	})
	if err != nil {
		return nil, err
	}
	return report.Files, nil
}

// PolicyImportOptions say how [ImportPolicies] works.
type PolicyImportOptions struct {
	// DryRun checks and plans, and stores nothing.
	DryRun bool `json:"dry_run,omitempty"`
}

// PolicyImportReport is what [ImportPolicies] did (or would do, in a dry run).
type PolicyImportReport struct {
	DryRun    bool               `json:"dry_run"`
	Documents []ImportedDocument `json:"documents"`
}

// ImportedDocument is one document imported.
type ImportedDocument struct {
	Name     string       `json:"name"`
	File     string       `json:"file"`
	Outcome  string       `json:"outcome"` // created, updated, unchanged
	Warnings []Diagnostic `json:"warnings"`
}

// ImportPolicies imports policy documents from files (paths or glob patterns) into a cluster
// folder, all or nothing: every file is read and checked before any document is stored. A
// pattern that matches nothing is [ErrInvalidInput]; a document with errors [ErrPolicy].
// options may be nil.
func ImportPolicies(clusterDir string, patterns []string, options *PolicyImportOptions) (*PolicyImportReport, error) {
	a := newArgs("policy_import")
	ccluster := a.str("cluster_dir", clusterDir)
	cpatterns := a.json("patterns_json", nonNil(patterns))
	coptions := a.json("options_json", options)
	var report PolicyImportReport
	err := callJSON(a, &report, func(out **C.char) C.ContinuumStatus {
		return C.continuum_policy_import(ccluster, cpatterns, coptions, out)
	})
	if err != nil {
		return nil, err
	}
	return &report, nil
}
