public enum LovaszDemoPlaceholder {}
