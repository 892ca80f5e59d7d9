"""Pure rules of the notifications: who is told what (recipients) and the messages' text (templates)."""
