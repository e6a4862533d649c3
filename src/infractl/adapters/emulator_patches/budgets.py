"""Budgets: the subscriber, tag and update calls that the provider makes and moto lacks."""

from __future__ import annotations

import json
from typing import Any

from infractl.adapters.emulator_patches import replace, wraps


def same_notification(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """AWS identifies a notification by type, operator, threshold and threshold type (PERCENTAGE by default)."""

    def key(n: dict[str, Any]) -> tuple[Any, ...]:
        return (
            n.get("NotificationType"),
            n.get("ComparisonOperator"),
            float(n.get("Threshold", 0)),
            n.get("ThresholdType") or "PERCENTAGE",
        )

    return key(a) == key(b)


def apply() -> None:
    from moto.budgets.exceptions import NotFoundException
    from moto.budgets.models import Budget
    from moto.budgets.responses import BudgetsResponse

    def find_budget(self: Any, account_id: str, name: str) -> Any:
        budget = self.backend.budgets[account_id].get(name)
        if budget is None:
            raise NotFoundException(f"Unable to get budget: {name} - the budget doesn't exist.")
        return budget

    def find_notification(self: Any) -> Any:
        budget = find_budget(self, self._get_param("AccountId"), self._get_param("BudgetName"))
        wanted = self._get_param("Notification") or {}
        for notification in budget.notifications:
            if same_notification(notification.details, wanted):
                return notification
        raise NotFoundException("Unable to find notification - the notification doesn't exist.")

    def budget_by_arn(self: Any) -> Any:
        arn = self._get_param("ResourceARN") or ""
        account_id, _, name = arn.split(":", 4)[-1].partition(":budget/")
        return find_budget(self, account_id, name)

    def describe_subscribers_for_notification(self: Any) -> str:
        """Gap: not implemented in moto. The provider's read of aws_budgets_budget calls it for every notification,
        and the SDK retries moto's 500 until apply and plan hang. moto stores the subscribers with the notification.
        """
        return json.dumps({"Subscribers": list(find_notification(self).subscribers or [])})

    def create_subscriber(self: Any) -> str:
        notification = find_notification(self)
        notification.subscribers = [*notification.subscribers, self._get_param("Subscriber")]
        return "{}"

    def delete_subscriber(self: Any) -> str:
        notification = find_notification(self)
        gone = self._get_param("Subscriber") or {}
        notification.subscribers = [s for s in notification.subscribers if s != gone]
        return "{}"

    def update_subscriber(self: Any) -> str:
        notification = find_notification(self)
        old, new = self._get_param("OldSubscriber"), self._get_param("NewSubscriber")
        notification.subscribers = [new if s == old else s for s in notification.subscribers]
        return "{}"

    def update_notification(self: Any) -> str:
        find_notification(self).details = self._get_param("NewNotification")
        return "{}"

    def update_budget(self: Any) -> str:
        """Gap: not implemented in moto; an in-place change of aws_budgets_budget hangs like the reads above."""
        account_id, new = self._get_param("AccountId"), dict(self._get_param("NewBudget"))
        old = find_budget(self, account_id, new.get("BudgetName"))
        new.setdefault("TimePeriod", old.budget.get("TimePeriod"))
        fresh = Budget(new, [])
        fresh.notifications = old.notifications
        fresh.__dict__["infractl_tags"] = old.__dict__.get("infractl_tags", [])
        self.backend.budgets[account_id][new["BudgetName"]] = fresh
        return "{}"

    def list_tags_for_resource(self: Any) -> str:
        """Gap: ListTagsForResource, TagResource and UntagResource are not implemented in moto (the provider's read
        hangs as above), and CreateBudget drops ResourceTags. Tags are kept on the budget, in order.
        """
        return json.dumps({"ResourceTags": budget_by_arn(self).__dict__.get("infractl_tags", [])})

    def tag_resource(self: Any) -> str:
        budget = budget_by_arn(self)
        tags = {t["Key"]: t["Value"] for t in budget.__dict__.get("infractl_tags", [])}
        tags.update({t["Key"]: t["Value"] for t in self._get_param("ResourceTags") or []})
        budget.infractl_tags = [{"Key": k, "Value": v} for k, v in tags.items()]
        return "{}"

    def untag_resource(self: Any) -> str:
        budget = budget_by_arn(self)
        gone = set(self._get_param("ResourceTagKeys") or [])
        budget.infractl_tags = [t for t in budget.__dict__.get("infractl_tags", []) if t["Key"] not in gone]
        return "{}"

    def wrap_create_budget(orig: Any) -> Any:
        @wraps(orig)
        def create_budget(self: Any) -> str:
            result = orig(self)
            budget = find_budget(self, self._get_param("AccountId"), self._get_param("Budget")["BudgetName"])
            budget.infractl_tags = list(self._get_param("ResourceTags") or [])
            return result

        return create_budget

    replace(BudgetsResponse, "create_budget", wrap_create_budget)
    for handler in (
        describe_subscribers_for_notification,
        create_subscriber,
        delete_subscriber,
        update_subscriber,
        update_notification,
        update_budget,
        list_tags_for_resource,
        tag_resource,
        untag_resource,
    ):
        replace(BudgetsResponse, handler.__name__, lambda _orig, h=handler: h)
