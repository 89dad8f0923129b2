"""Routes of the climate (being integrated)."""

from fastapi import APIRouter

from api.auth import Auth
from daemon.services import Services


def router(svc: Services, auth: Auth) -> APIRouter:
    del svc, auth
    return APIRouter(prefix="/api/v1", tags=["climate"])
