"""What each field does. Resolvers never check permissions: the directives and auth/ do."""
