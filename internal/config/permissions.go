package config

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sitrep/sitrep/internal/access"
)

// PermissionsConfig is the permissions: block of sitrep.yaml: who may do
// what (see internal/access and the README's "Permissions"). Left out,
// every setting takes its safe default.
type PermissionsConfig struct {
	// Commanders may do anything, anywhere: users by ID ("U…", "W…") and
	// user groups by ID ("S…"), which may be written as Slack shows them,
	// "<!subteam^S…|@handle>".
	Commanders []string `yaml:"commanders"`
	// Changes says who may change an incident: "room" (the members of its
	// room, the default) or "anyone".
	Changes string `yaml:"changes"`
	// Handover says who may hand leadership over or give a role:
	// "channel" (anyone in the incident's room, the default), "tdo" (only
	// the current TDO) or "anyone". It replaces incidents.handover; set
	// one of the two.
	Handover string `yaml:"handover"`
}

// Slack IDs of a user ("U…", "W…") and of a user group ("S…"), bare or as
// Slack writes a mention of them.
var (
	userID     = regexp.MustCompile(`^([UW][A-Z0-9]{2,})$|^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$`)
	subteamRef = regexp.MustCompile(`^(S[A-Z0-9]{2,})$|^<!subteam\^(S[A-Z0-9]{2,})(?:\|[^>]*)?>$`)
)

// UnmarshalYAML reads the block and checks it as it is read, so that a
// mistake stops sitrep at start with the setting named.
func (p *PermissionsConfig) UnmarshalYAML(n *yaml.Node) error {
	// A custom decoder does not inherit the file's KnownFields: check the
	// keys here, so that a misspelt setting is not silently ignored.
	if n.Kind == yaml.MappingNode {
		for i := 0; i < len(n.Content); i += 2 {
			switch k := n.Content[i].Value; k {
			case "commanders", "changes", "handover":
			default:
				return fmt.Errorf("line %d: permissions.%s is not a setting: use commanders, changes or handover", n.Content[i].Line, k)
			}
		}
	}
	type plain PermissionsConfig
	var v plain
	if err := n.Decode(&v); err != nil {
		return err
	}
	*p = PermissionsConfig(v)
	_, _, err := p.commanders()
	if err == nil {
		err = p.check()
	}
	return err
}

// check checks changes and handover.
func (p *PermissionsConfig) check() error {
	p.Changes = strings.ToLower(strings.TrimSpace(p.Changes))
	p.Handover = strings.ToLower(strings.TrimSpace(p.Handover))
	switch p.Changes {
	case "", access.ChangesRoom, access.ChangesAnyone:
	default:
		return fmt.Errorf("permissions.changes %q: use room (only the members of an incident's room change it, the default) or anyone", p.Changes)
	}
	switch p.Handover {
	case "", access.HandoverChannel, access.HandoverTDO, access.HandoverAnyone:
	default:
		return fmt.Errorf("permissions.handover %q: use channel (anyone in the incident's room, the default), tdo (only the current TDO) or anyone", p.Handover)
	}
	return nil
}

// commanders splits Commanders into user IDs and user group IDs.
func (p *PermissionsConfig) commanders() (users, groups []string, err error) {
	for i, c := range p.Commanders {
		c = strings.TrimSpace(c)
		if m := userID.FindStringSubmatch(c); m != nil {
			users = append(users, m[1]+m[2])
			continue
		}
		if m := subteamRef.FindStringSubmatch(c); m != nil {
			groups = append(groups, m[1]+m[2])
			continue
		}
		return nil, nil, fmt.Errorf("permissions.commanders[%d] %q: name a user by member ID (U…, from their profile's \"Copy member ID\") or a user group by ID (S…, or as <!subteam^S…|@handle>); names and @handles cannot be used", i, c)
	}
	return users, groups, nil
}

// Permissions returns the permission model's settings. The hand-over
// policy is permissions.handover, or else incidents.handover (its older
// place); both set to different policies is an error, so that no one
// reads the file and believes the other.
func (c Config) Permissions() (access.Settings, error) {
	p := c.PermissionConfig
	users, groups, err := p.commanders()
	if err == nil {
		err = p.check()
	}
	if err != nil {
		return access.Settings{}, fmt.Errorf("%s: %w", c.where(), err)
	}
	handover := p.Handover
	old := strings.TrimSpace(c.Incidents.Handover)
	switch {
	case handover == "":
		handover = old
	case old != "" && old != access.HandoverChannel && old != handover:
		// incidents.handover's default is channel: only a value set
		// in the file can disagree.
		return access.Settings{}, fmt.Errorf("%s: permissions.handover %q and incidents.handover %q disagree: keep permissions.handover and remove incidents.handover", c.where(), handover, old)
	}
	return access.Settings{Commanders: users, CommanderGroups: groups, Changes: p.Changes, Handover: handover}, nil
}
