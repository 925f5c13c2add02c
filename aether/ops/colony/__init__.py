"""the colony as a whole: init and status, archive, restore, reset, the user's memory."""
