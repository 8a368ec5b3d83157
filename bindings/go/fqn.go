package continuum

// #include "continuum.h"
import "C"

// FQN is a parsed fully qualified name (`package::/apcera/pkg/runtimes::go-1.5.1`).
type FQN struct {
	FQN          string `json:"fqn"`           // normalized
	ResourceType string `json:"resource_type"` // "" when written without one
	Namespace    string `json:"namespace"`
	LocalName    string `json:"local_name"` // "" for a namespace
	IsRealm      bool   `json:"is_realm"`
}

// String gives the normalized FQN.
func (f FQN) String() string {
	return f.FQN
}

// ParseFQN parses a fully qualified name; defaultType is the resource type of a name written
// without one (`job`, `package` …), or "" to take the name as written. A malformed name is
// [ErrInvalidInput], with the column in the message.
func ParseFQN(text, defaultType string) (*FQN, error) {
	a := newArgs("fqn_parse")
	ctext := a.str("text", text)
	cdefault := a.optional("default_type", defaultType)
	var fqn FQN
	err := callJSON(a, &fqn, func(out **C.char) C.ContinuumStatus {
		return C.continuum_fqn_parse(ctext, cdefault, out)
	})
	if err != nil {
		return nil, err
	}
	return &fqn, nil
}
