package slacksim

import "slices"

// usergroupsUsersList answers usergroups.users.list: the IDs of a user
// group's members. As Slack documents it, usergroup is required (the
// group's ID, "S…"), an unknown group answers no_such_subteam, and a
// disabled group is only found with include_disabled.
func (s *Sim) usergroupsUsersList(r *request) response {
	id := r.get("usergroup")
	if id == "" {
		return fail("invalid_arguments")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.ws.groups[id]
	if g == nil || g.Disabled && !r.bool("include_disabled") {
		return fail("no_such_subteam")
	}
	return ok(response{"users": append([]string{}, g.Users...)})
}

// SetUserGroupMembers replaces the members of user group id, as an admin
// editing it in Slack would. It reports whether the group exists.
func (s *Sim) SetUserGroupMembers(id string, users ...string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.ws.groups[id]
	if g == nil {
		return false
	}
	g.Users = slices.Clone(users)
	s.notifyLocked()
	return true
}
