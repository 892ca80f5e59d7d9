"""The notifications consumer (a policy of the public topics) and the SMS dispatcher."""
