"""Route factories: each returns an APIRouter closed over the services it uses."""
