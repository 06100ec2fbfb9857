"""kohde: marketing and sales exports in; segments, attribution, ROI, CLV and goal tables out."""

__version__ = "0.1.0"
