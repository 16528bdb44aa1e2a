"""The field app under ``/app``: wallet sign-in and mobile pages for suppliers and carriers."""
