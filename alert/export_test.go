package alert

// Waiting is how many Receive calls wait for a transaction.
func (s *Service) Waiting() int {
	s.gather.mu.Lock()
	defer s.gather.mu.Unlock()
	return len(s.gather.waiting)
}

// Commits is how many intake transactions the service ran.
func (s *Service) Commits() int64 { return s.gather.commits.Load() }
