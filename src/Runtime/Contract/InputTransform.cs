using System;

namespace HeadTracking.Runtime.Contract;

/// <summary>
/// How a frame becomes the model's input, defined once for the trainer (its validation and eval
/// batches, and the geometry under its augmentation) and the runtime (<c>Preprocessing.Letterbox</c>),
/// and recorded in the manifest (<c>input.resize</c>, <c>input.interpolation</c>, scale, mean, std):
/// <list type="number">
/// <item>Letterbox: the frame keeps its aspect ratio, scaled by min(W/w, H/h) and rounded to whole
/// pixels (<see cref="Fit"/>), centred with the left and top padding rounded down; the rest is black.</item>
/// <item>Interpolation "area": OpenCV's INTER_AREA from the frame to the fitted size (a shrink
/// averages every frame pixel under an input pixel; the runtime's own shrink sums the same pixels
/// without rounding to 8 bits).</item>
/// <item>Normalisation: value = (byte * scale - mean[c]) / std[c], channels R, G, B.</item>
/// </list>
/// Coordinates map back as frame = (input - pad) / scale, per axis.
/// </summary>
internal static class InputTransform
{
    /// <summary>The manifest's <c>input.resize</c>.</summary>
    public const string Letterbox = "letterbox";

    /// <summary>The manifest's <c>input.interpolation</c>; models written before it was recorded were
    /// trained on 128x128 images (no resize), served this way.</summary>
    public const string Area = "area";

    /// <summary>Where a <paramref name="frameWidth"/> x <paramref name="frameHeight"/> frame lands in a
    /// <paramref name="inputWidth"/> x <paramref name="inputHeight"/> input: its fitted size in whole
    /// pixels, the scale per axis (fitted size / frame size) and the padding before it.</summary>
    public static Fitted Fit(int frameWidth, int frameHeight, int inputWidth, int inputHeight)
    {
        if (frameWidth <= 0 || frameHeight <= 0 || inputWidth <= 0 || inputHeight <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(frameWidth), $"cannot fit a {frameWidth}x{frameHeight} frame into a {inputWidth}x{inputHeight} input");
        }

        float scale = Math.Min((float)inputWidth / frameWidth, (float)inputHeight / frameHeight);
        int w = Math.Max(1, Math.Min(inputWidth, (int)Math.Round(frameWidth * scale)));
        int h = Math.Max(1, Math.Min(inputHeight, (int)Math.Round(frameHeight * scale)));
        return new Fitted(w, h, (float)w / frameWidth, (float)h / frameHeight, (inputWidth - w) / 2, (inputHeight - h) / 2);
    }

    /// <summary>A fitted frame: <see cref="Width"/> x <see cref="Height"/> input pixels at
    /// (<see cref="PadX"/>, <see cref="PadY"/>); input = frame * scale + pad.</summary>
    public readonly struct Fitted
    {
        public Fitted(int width, int height, float scaleX, float scaleY, int padX, int padY) =>
            (Width, Height, ScaleX, ScaleY, PadX, PadY) = (width, height, scaleX, scaleY, padX, padY);

        public int Width { get; }

        public int Height { get; }

        public float ScaleX { get; }

        public float ScaleY { get; }

        public int PadX { get; }

        public int PadY { get; }

        public void Deconstruct(out int width, out int height, out float scaleX, out float scaleY, out int padX, out int padY) =>
            (width, height, scaleX, scaleY, padX, padY) = (Width, Height, ScaleX, ScaleY, PadX, PadY);
    }
}
